"""The test suite, a package so that tools/ can import its oracle and sweeps."""
