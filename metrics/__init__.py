"""The tracker's indicators: pure functions of a DuckDB connection and a :class:`Filters`,
each returning a tidy DataFrame. No Streamlit here; pages and the CLI call these.

=====================  ===============================================================
indicator              function
=====================  ===============================================================
Actions                :func:`metrics.actions.actions`
Proactive share        :func:`metrics.actions.proactive_share`
Detection rate         :func:`metrics.detection.detection_rate`
Reduction vs baseline  :func:`metrics.reduction.reduction_series`, :func:`~.reduction`
Progress to target     :func:`metrics.progress.progress`
Projection and status  :func:`metrics.progress.progress`, :func:`metrics.progress.projection`
Coverage, timeliness   :func:`metrics.coverage.reporting_coverage`
=====================  ===============================================================
"""

from metrics.access import OBSERVER, SECRETARIAT, Viewer
from metrics.actions import actions, proactive_share
from metrics.coverage import reporting_coverage
from metrics.detection import detection_rate
from metrics.filters import BREAKDOWNS, GRAINS, GROUP_SEPARATOR, Filters
from metrics.progress import STATUSES, Target, default_target, progress, projection, targets
from metrics.reduction import reduction, reduction_series

__all__ = [
    "OBSERVER",
    "SECRETARIAT",
    "Viewer",
    "BREAKDOWNS",
    "GRAINS",
    "GROUP_SEPARATOR",
    "STATUSES",
    "Filters",
    "Target",
    "actions",
    "default_target",
    "detection_rate",
    "progress",
    "proactive_share",
    "projection",
    "reduction",
    "reduction_series",
    "reporting_coverage",
    "targets",
]
