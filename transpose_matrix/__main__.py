"""``python -m transpose_matrix``: see :mod:`transpose_matrix.cli`."""

import sys

from .cli import main

sys.exit(main())
