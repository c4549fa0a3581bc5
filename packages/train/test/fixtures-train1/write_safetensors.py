"""Writes a safetensors file with several dtypes, as PyTorch/numpy users would."""
import sys

import numpy as np
from safetensors.numpy import save_file

save_file({
    "f64": np.array([[1.5, -2.25], [3.0, 4.5]], dtype=np.float64),
    "f16": np.array([0.5, -1.0, 65504.0], dtype=np.float16),
    "i64": np.array([7, -8, 2**31 - 1], dtype=np.int64),
    "u8": np.array([0, 255], dtype=np.uint8),
    "mask": np.array([True, False, True]),
}, sys.argv[1], metadata={"format": "pt"})
