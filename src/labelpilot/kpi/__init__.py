"""KPI math over plain event records: active time, shapes delivered, rates, peer benchmarks.

Pure code, no database and no HTTP: ``services.kpi_activity`` loads the records of a project and
``services.kpi_reports`` turns the summaries into API answers. The modules are the input records
(``records``), active time from gaps between events (``active_time``), which delivered track counts
for whom (``deliveries``), sums and rates over a period (``tally``), per person, per day and per week
(``summary``) and the comparison with the team (``peers``).
"""
