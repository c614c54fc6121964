"""Stand-in classes shared by several test files (fake clocks, fake servers, fake stores). Pytest fixtures stay in
the fixture modules (tests/*_fixtures.py, conftest.py); stand-ins that the benchmarks use too are project code,
in vigie/sim/standins/."""
