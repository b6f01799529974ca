"""KPI math over plain event records: active time, shapes delivered, rates, peer benchmarks.

Pure code, no database and no HTTP: ``services.kpi_activity`` loads the records of a project (from the
rollups ``services.kpi_rollups`` keeps) and ``services.kpi_reports`` turns the summaries into API
answers. The modules are the input records (``records``), active time from the gaps between events
summed into per-day buckets (``buckets``), which delivered track counts for whom (``deliveries``),
sums and rates over a period (``tally``), per person, per day, per class and per week (``summary``)
and the comparison with the peers (``peers``).
"""
