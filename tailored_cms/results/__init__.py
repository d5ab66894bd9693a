"""Results of tailoring for editors: impressions, clicks and conversions per variant and path, with confidence
intervals and the lift over the holdout; segment sizes over time.

``rollup`` counts them in the ingest's transaction (Celery) and ``sizes`` records segment sizes (the recompute);
``stats`` is the statistics and ``chart`` draws figures as SVG (both pure, re-exported here: importing this
package loads no models); ``report`` reads the counters into figures, ``verdict`` says what they mean (which
variant wins, how sure, how many more views) and ``sentence`` says it in words; ``admin`` is the results pages.
"""

from __future__ import annotations

from .chart import Series, line_chart
from .stats import Interval, Lift, Rate, lift, wilson

__all__ = ["Interval", "Lift", "Rate", "Series", "lift", "line_chart", "wilson"]
