"""Reads a safetensors file with the reference implementation; prints JSON (names, dtypes, shapes, sums, metadata)."""
import json
import sys

from safetensors.numpy import load_file
from safetensors import safe_open

path = sys.argv[1]
tensors = load_file(path)
with safe_open(path, "np") as handle:
    metadata = handle.metadata()
print(json.dumps({
    "tensors": {name: {"dtype": str(t.dtype), "shape": list(t.shape), "sum": float(t.astype("float64").sum())} for name, t in tensors.items()},
    "metadata": metadata,
}))
