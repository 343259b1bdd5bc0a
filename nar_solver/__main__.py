"""`python -m nar_solver ...` (what torchrun launches) runs the same CLI as `nar-solver`."""
from nar_solver.cli import main

main(prog_name="nar-solver")
