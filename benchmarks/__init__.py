"""Measure scan accuracy and speed: a synthetic wall photographer, scan and marker benchmarks."""
