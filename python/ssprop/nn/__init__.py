"""ssprop.nn: layers with the ssProp backward, and their functional forms."""

from . import functional
from .modules import Conv2d, Linear

__all__ = ["Conv2d", "Linear", "functional"]
