"""`evaluate` under torchrun (2 CPU ranks, gloo): the puzzles are sharded by rank and gathered into
one report, equal to the one-process report; rank 0 alone prints and writes --json-out."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch.distributed as dist
from click.testing import CliRunner

from nar_solver.cli import main
from nar_solver.evaluate.sharded import rank_device, shard_indices
from nar_solver.distributed import DistContext
from nar_solver.world.formats import write_puzzle_folders
from nar_solver.world.puzzle import generate_puzzles

pytestmark = pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(),
                                reason="needs torch.distributed with gloo")

N_PUZZLES = 5  # odd: the ranks get 3 and 2


def torchrun(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
    env.update(PYTHONWARNINGS="ignore", OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)


@pytest.fixture(scope="module")
def puzzle_set(tmp_path_factory):
    folder = tmp_path_factory.mktemp("eval-set") / "set"
    write_puzzle_folders(generate_puzzles(17, N_PUZZLES, "mixed"), folder)
    return folder


def comparable(report: dict) -> dict:
    """Everything but the timings."""
    return {"results": [{k: v for k, v in r.items() if k != "seconds"} for r in report["results"]],
            **{k: report[k] for k in ("accuracy", "n", "solver", "per_category", "interval_95", "settings")}}


def test_shards_cover_every_puzzle_once():
    shards = [shard_indices(7, DistContext(rank, 3, rank)) for rank in range(3)]
    assert shards == [[0, 3, 6], [1, 4], [2, 5]]
    assert shard_indices(7, DistContext()) == list(range(7))
    assert rank_device("cpu", DistContext(1, 2, 1)) == "cpu" and rank_device("cuda:1", DistContext()) == "cuda:1"


def test_torchrun_evaluate_gathers_the_one_process_result(puzzle_set, tmp_path, solver="pixel"):
    single = tmp_path / "single.json"
    result = CliRunner().invoke(main, ["evaluate", str(puzzle_set), "--solver", solver, "--seed", "4",
                                       "--json-out", str(single)])
    assert result.exit_code == 0, result.output

    sharded = tmp_path / "sharded.json"
    run = torchrun("-m", "nar_solver", "evaluate", str(puzzle_set), "--solver", solver, "--seed", "4",
                   "--json-out", str(sharded))
    assert run.returncode == 0, run.stderr[-3000:]
    one, two = json.loads(single.read_text()), json.loads(sharded.read_text())
    assert comparable(two) == comparable(one)
    assert len(two["results"]) == N_PUZZLES and [r["id"] for r in two["results"]] == [r["id"] for r in one["results"]]
    assert run.stdout.count(f"{solver}: accuracy") == 1 and run.stdout.count("results: ") == 1  # rank 0 only


SCRIPT = textwrap.dedent('''
    """One torchrun rank: shard, gather, and a failure on one rank reaching every rank."""
    import json, sys
    from pathlib import Path

    import torch.distributed as dist

    from nar_solver.errors import NarError, RunFailure
    from nar_solver.evaluate.accuracy import evaluate
    from nar_solver.evaluate.sharded import evaluate_sharded
    from nar_solver.solve.baselines import PixelAnalogySolver
    from nar_solver.solve.registry import make_solver
    from nar_solver.solve.solver import SolverSettings
    from nar_solver.distributed import DistContext
    from nar_solver.world.formats import load_puzzles

    class Recording(PixelAnalogySolver):
        fail_on = None

        def __init__(self):
            super().__init__()
            self.seen = []

        def _solve(self, puzzle, with_images):
            self.seen.append(puzzle.id)
            if puzzle.id == self.fail_on:
                raise NarError("cannot solve this one", puzzle.id)
            return super()._solve(puzzle, with_images)

    ctx = DistContext.from_env()
    dist.init_process_group("gloo")  # already up: evaluate_sharded must use it and leave it up
    puzzles = load_puzzles(sys.argv[1])
    solver = Recording()
    report = evaluate_sharded(puzzles, solver)
    out = {"rank": ctx.rank, "seen": solver.seen, "ids": [r.id for r in report.results],
           "predicted": [r.answer for r in report.results],
           "one_process": [r.answer for r in evaluate(puzzles, PixelAnalogySolver()).results],
           "still_up": dist.is_initialized()}
    # a stochastic solver seeded per puzzle gives the same answers whichever rank solves a puzzle
    random = make_solver("random", SolverSettings(seed=4))
    out["random"] = [r.answer for r in evaluate_sharded(puzzles, random).results]
    out["random_one_process"] = [r.answer for r in evaluate(puzzles, random).results]
    failing = Recording()
    failing.fail_on = puzzles[1].id  # rank 1's first puzzle
    try:
        evaluate_sharded(puzzles, failing)
    except RunFailure as err:
        out["failure"] = ["RunFailure", str(err)]
    except NarError as err:
        out["failure"] = ["NarError", str(err)]
    Path(sys.argv[2], f"rank{ctx.rank}.json").write_text(json.dumps(out))
    dist.destroy_process_group()
''')


def test_each_rank_solves_its_shard_and_a_failing_rank_stops_every_rank(puzzle_set, tmp_path):
    script = tmp_path / "rank.py"
    script.write_text(SCRIPT)
    run = torchrun(str(script), str(puzzle_set), str(tmp_path), timeout=240)
    assert run.returncode == 0, run.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    ids = ranks[0]["ids"]
    assert len(ids) == N_PUZZLES and ranks[1]["ids"] == ids  # every rank gets the whole report
    assert ranks[0]["seen"] == ids[0::2] and ranks[1]["seen"] == ids[1::2]  # strided shards, no overlap
    for rank in ranks:
        assert rank["predicted"] == rank["one_process"] and rank["still_up"]
        assert rank["random"] == rank["random_one_process"]
    assert ranks[1]["failure"][0] == "NarError" and "cannot solve this one" in ranks[1]["failure"][1]
    assert ranks[0]["failure"][0] == "RunFailure"
    assert "evaluate rank 1 of 2 failed" in ranks[0]["failure"][1] and "cannot solve this one" in ranks[0]["failure"][1]
