{
  "targets": [
    {
      "target_name": "gorilla_dist_mpi",
      "sources": ["mpi_binding.cc", "mpi_collectives.cc", "mpi_lifecycle.cc", "mpi_thread.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8", "OMPI_SKIP_MPICXX=1", "MPICH_SKIP_MPICXX=1"],
      "cflags_cc": ["<!@(node ../scripts/mpi-flags.mjs cflags)"],
      "libraries": ["<!@(node ../scripts/mpi-flags.mjs libs)", "-ldl"],
      "xcode_settings": {
        "OTHER_CPLUSPLUSFLAGS": ["<!@(node ../scripts/mpi-flags.mjs cflags)"],
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES"
      }
    }
  ]
}
