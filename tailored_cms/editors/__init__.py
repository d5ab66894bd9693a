"""What editors use besides the plugins: preview as any visitor, and who may see results (``results/``)."""

from .preview import PERMISSION_PREVIEW, PERMISSION_RESULTS, Preview, PreviewContext, may_preview, may_see_results

__all__ = ["PERMISSION_PREVIEW", "PERMISSION_RESULTS", "Preview", "PreviewContext", "may_preview", "may_see_results"]
