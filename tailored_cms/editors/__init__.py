"""What editors use besides the plugins: preview as any visitor (who may see results: ``areas.models``)."""

from .preview import PERMISSION_PREVIEW, Preview, PreviewContext, may_preview

__all__ = ["PERMISSION_PREVIEW", "Preview", "PreviewContext", "may_preview"]
