"""Plotly for every figure of the app, imported after pandas.

Plotly looks for pandas in `sys.modules` without importing it. While another session's page
is importing pandas, it finds it half made and the figure fails ("partially initialized module
'pandas'"). Importing pandas first makes a page wait for that import to end instead.
"""

import pandas  # noqa: F401  (before plotly: see above)
import plotly.graph_objects as go
from plotly.subplots import make_subplots

__all__ = ["go", "make_subplots"]
