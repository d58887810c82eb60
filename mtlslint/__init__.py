"""mtlslint: find mutual-TLS mistakes in infrastructure-as-code."""

__version__ = "0.1.0"
HOMEPAGE = "https://github.com/mtlslint/mtlslint"
