"""What editors use besides the plugins: preview as any visitor (and, later, results)."""

from .preview import PERMISSION_PREVIEW, PERMISSION_RESULTS, Preview, PreviewContext, may_preview

__all__ = ["PERMISSION_PREVIEW", "PERMISSION_RESULTS", "Preview", "PreviewContext", "may_preview"]
