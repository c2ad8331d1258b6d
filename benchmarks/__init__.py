"""medval benchmarks (`make bench`, i.e. `python -m benchmarks`): not part of `make test`.

Every figure is reported next to a baseline measured in the same run (fhir.resources parsing,
GET /health, the smallest Bundle), so the ratios hold on a noisy machine.
"""
