"""The effort benchmark: a simulated annotator prices annotation workflows in shapes per Euro.

``shared/EFFORT_MODEL.md`` is the specification. The modules are the price table (``prices``), the
ground-truth oracle that only answers paid looks (``oracle``), the editor operations the annotator may
use (``editor``), the annotator's behaviours (``annotator``), the workflows (``workflows``) and the
quality accounting (``quality``, ``report``). No database here: the service layer provides the
editor (``services.effort_editor``) and runs the benchmark (``services.effort_runs``).
"""
