"""The postmortem analysis under the name the notebooks and the README use.

`from logkit.postmortem import analyze` is how notebooks/incident_postmortem.ipynb starts; the
code lives in logkit/report/ (window, analysis, findings, charts, render), which see. Every
name logkit.report exports is here too.
"""

from .report import *  # noqa: F403 - the same names, under the older path
