"""Puzzles on disk: our single-puzzle folders and the published few-shot-nar layout.

Our folder format (one puzzle per folder)::

    puzzle.json                 names the PNGs, the answers, and when known the program and boards
    example_{e}_input.png       e = 0..5
    example_{e}_option_{o}.png  o = 0..3
    query.png
    query_option_{o}.png

The few-shot-nar layout (docs/world.md): one problems JSON (a list of
``[examples, query, query_options, solution, program]``) and one image folder with
``{i}_{e}_input.png``, ``{i}_{e}_{o}_option.png``, ``{i}_query.png``, ``{i}_{o}_query_option.png``.
Only the list lengths and solution indices are read from its JSON; its board encoding is treated
as opaque (boards are kept only when they happen to be in our ``[[shape, x, y], ...]`` encoding).

Every problem with a file raises :class:`PuzzleError` carrying the file's path and a one-line reason.
PNGs are written RGB with three equal channels (as published) and read back as (64, 64) uint8 grey.
"""
from __future__ import annotations

import io
import json
import os
import re
import stat
import warnings
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
from PIL import Image

from nar_solver.errors import PuzzleError
from nar_solver.io import atomic_write_text, make_folder
from nar_solver.world.board import IMAGE_SIZE, Board
from nar_solver.world.puzzle import Example, Puzzle

PUZZLE_JSON = "puzzle.json"
FORMAT_NAME = "nar-solver-puzzle"
FORMAT_VERSION = 1
#: Default names used when writing the few-shot-nar layout.
FEWSHOT_JSON = "problems.json"
FEWSHOT_IMAGES = "images"

_READABLE_MODES = ("L", "RGB", "RGBA", "P")


# ----------------------------------------------------------------------------------------------
# PNG files


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


#: What ``stat`` calls a file that is not a regular file, for the error that refuses it.
_SPECIAL_FILES = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
                  (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))


def check_regular_file(path: Path, missing: str = "missing image file") -> None:
    """Refuse a path that is not a regular file before anything opens it: opening a FIFO blocks
    forever and a device reads without end, so each gets its own message, not ``missing``."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise PuzzleError(missing, path) from None
    except OSError as err:
        raise PuzzleError(f"cannot read ({_one_line(err.strerror or err)})", path) from None
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _SPECIAL_FILES if test(mode)), "not a regular file")
        raise PuzzleError(f"is {kind}, not a regular file", path)


def _check_header(image: Image.Image, path: Path) -> None:
    """Format and size from the PNG header, before a single pixel is decoded: a 12000x12000 image
    is refused at the cost of reading its first bytes, not of decoding 144 million pixels."""
    if image.format != "PNG":
        raise PuzzleError(f"not a PNG image (found {image.format})", path)
    if image.size != (IMAGE_SIZE, IMAGE_SIZE):
        width, height = image.size
        raise PuzzleError(f"image is {width}x{height}, expected {IMAGE_SIZE}x{IMAGE_SIZE}", path)
    if image.mode not in _READABLE_MODES:
        raise PuzzleError(
            f"unsupported image mode {image.mode!r} (expected one of {', '.join(_READABLE_MODES)})", path)


def _open_header(path: Path) -> Image.Image:
    """``Image.open`` reads only the header; PIL's decompression-bomb warning (printed for any image
    over 89 million pixels) is silenced because :func:`_check_header` refuses the size anyway."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        return Image.open(path)


def load_grey_png(path: str | Path) -> np.ndarray:
    """Read a 64x64 PNG as uint8 grey (255 = white). Accepts L and RGB; RGBA and palette images are
    composited on white. Anything else (including a FIFO or device in its place, or an image of
    another size, refused from its header) raises PuzzleError naming the file."""
    path = Path(path)
    check_regular_file(path)
    try:
        with _open_header(path) as image:
            _check_header(image, path)
            image.load()
            mode = image.mode
            if mode == "L":
                return np.array(image, dtype=np.uint8)
            if mode in ("RGBA", "P"):
                rgba = image.convert("RGBA")
                white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                return np.array(Image.alpha_composite(white, rgba).convert("L"), dtype=np.uint8)
            rgb = np.array(image, dtype=np.uint8)
            if (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all():
                return np.ascontiguousarray(rgb[..., 0])
            return np.array(image.convert("L"), dtype=np.uint8)
    except PuzzleError:
        raise
    except Image.DecompressionBombError:
        raise PuzzleError(f"image is far larger than {IMAGE_SIZE}x{IMAGE_SIZE} (refused before decoding)",
                          path) from None
    except (OSError, SyntaxError, ValueError) as err:
        raise PuzzleError(f"not a readable PNG ({_one_line(err)})", path) from None


def png_bytes(image: np.ndarray) -> bytes:
    """A grey (64, 64) uint8 image encoded as an RGB PNG with equal channels; deterministic bytes."""
    image = np.asarray(image)
    if image.shape != (IMAGE_SIZE, IMAGE_SIZE) or image.dtype != np.uint8:
        raise ValueError(f"expected a ({IMAGE_SIZE}, {IMAGE_SIZE}) uint8 image, got {image.shape} {image.dtype}")
    buffer = io.BytesIO()
    Image.fromarray(np.repeat(image[:, :, None], 3, axis=2), mode="RGB").save(
        buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def save_grey_png(image: np.ndarray, path: str | Path) -> None:
    Path(path).write_bytes(png_bytes(image))


# ----------------------------------------------------------------------------------------------
# JSON helpers


_SCALAR_LIST = re.compile(r"\[\s*([^\[\]{}]*?)\s*\]")


def dumps_json(obj: Any) -> str:
    """Deterministic JSON (sorted keys, 2-space indent) with lists of scalars on one line, so boards
    read as ``["b", 1, 0]`` instead of five lines."""
    text = json.dumps(obj, indent=2, sort_keys=True)
    compact = _SCALAR_LIST.sub(lambda m: "[" + ", ".join(v.strip() for v in m.group(1).split(",\n")) + "]",
                               text)
    if json.loads(compact) != json.loads(text):  # a bracket inside a string fooled the pattern
        compact = text
    return compact + "\n"


def read_json(path: Path) -> Any:
    """The parsed JSON of a regular file; a missing, unreadable or malformed file is a PuzzleError."""
    check_regular_file(path, "missing file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise PuzzleError(f"malformed JSON ({err.msg} at line {err.lineno} column {err.colno})", path) from None
    except RecursionError:  # json recurses once per nesting level; a hostile file nests 200,000 deep
        raise PuzzleError("malformed JSON (nested too deeply)", path) from None
    except ValueError as err:  # an integer of more than sys.get_int_max_str_digits() digits
        raise PuzzleError(f"malformed JSON ({_one_line(err).split(';')[0]})", path) from None
    except (UnicodeDecodeError, OSError) as err:
        raise PuzzleError(f"cannot read JSON ({_one_line(err)})", path) from None


def _index(value: Any, n_options: int, where: str, path: Path, required: bool) -> int | None:
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise PuzzleError(f"{where}: answer must be an integer, got {value!r}", path)
    if not 0 <= value < n_options:
        raise PuzzleError(f"{where}: answer index {value} out of range for {n_options} options", path)
    return value


def _board_or_none(data: Any) -> Board | None:
    """Our board encoding if ``data`` is in it, else None (foreign encodings are opaque)."""
    if not isinstance(data, list):
        return None
    try:
        board = Board.of(data)
    except (TypeError, ValueError):
        return None
    return board


def _program_or_none(data: Any) -> list[str] | None:
    if isinstance(data, list) and data and all(isinstance(t, str) for t in data):
        return list(data)
    return None


# ----------------------------------------------------------------------------------------------
# Our single-puzzle folders


def _example_names(e: int, n_options: int) -> tuple[str, list[str]]:
    return f"example_{e}_input.png", [f"example_{e}_option_{o}.png" for o in range(n_options)]


def _query_names(n_options: int) -> tuple[str, list[str]]:
    return "query.png", [f"query_option_{o}.png" for o in range(n_options)]


def _boards_json(boards: Sequence[Board] | None) -> list | None:
    return None if boards is None else [b.to_json() for b in boards]


def _save_item(folder: Path, names: tuple[str, list[str]], image: np.ndarray, options: np.ndarray,
               answer: int | None, board: Board | None, option_boards: Sequence[Board] | None) -> dict[str, Any]:
    """Write one example's (or the query's) PNGs; return its puzzle.json entry."""
    input_name, option_names = names
    save_grey_png(image, folder / input_name)
    for option, name in zip(options, option_names):
        save_grey_png(option, folder / name)
    entry: dict[str, Any] = {"input": input_name, "options": option_names, "answer": answer}
    if board is not None:
        entry["input_board"] = board.to_json()
    if option_boards is not None:
        entry["option_boards"] = _boards_json(option_boards)
    return entry


def save_puzzle(puzzle: Puzzle, folder: str | Path) -> Path:
    """Write ``puzzle`` as a folder (PNGs + puzzle.json); returns the puzzle.json path."""
    folder = Path(folder)
    make_folder(folder)
    n = puzzle.n_options
    examples = []
    for e, example in enumerate(puzzle.examples):
        if example.options.shape[0] != n:
            raise ValueError(f"example {e} has {example.options.shape[0]} options, the query {n}")
        examples.append(_save_item(folder, _example_names(e, n), example.input, example.options, example.answer,
                                   example.input_board, example.option_boards))
    query = _save_item(folder, _query_names(n), puzzle.query, puzzle.query_options, puzzle.query_answer,
                       puzzle.query_board, puzzle.query_option_boards)
    document: dict[str, Any] = {
        "format": FORMAT_NAME, "version": FORMAT_VERSION, "id": puzzle.id,
        "examples": examples, "query": query,
    }
    if puzzle.program is not None:
        document["program"] = list(puzzle.program)
    if puzzle.family is not None:
        document["family"] = puzzle.family
    target = folder / PUZZLE_JSON
    atomic_write_text(target, dumps_json(document))
    return target


def write_puzzle_folders(puzzles: Iterable[Puzzle], out: str | Path) -> int:
    """Write each puzzle into ``out/<puzzle id>/``; returns the count."""
    out = Path(out)
    count = 0
    for puzzle in puzzles:
        if not puzzle.id or Path(puzzle.id).name != puzzle.id or puzzle.id in (".", ".."):
            raise ValueError(f"puzzle id {puzzle.id!r} cannot name a folder")
        save_puzzle(puzzle, out / puzzle.id)
        count += 1
    return count


def _image_ref(folder: Path, value: Any, where: str, json_path: Path) -> Path:
    if not isinstance(value, str) or not value:
        raise PuzzleError(f"{where}: expected a PNG file name, got {value!r}", json_path)
    candidate = Path(value)
    if candidate.is_absolute() or ".." in candidate.parts:
        raise PuzzleError(f"{where}: image path {value!r} must be relative to the puzzle folder", json_path)
    path = folder / candidate
    if not _stays_inside(path, folder):
        raise PuzzleError(f"{where}: image path {value!r} leads outside the puzzle folder (through a link)",
                          json_path)
    return path


def _stays_inside(path: Path, folder: Path) -> bool:
    """Whether ``path``, every link followed, is still inside ``folder`` (itself resolved).

    Decided from the names alone (``resolve`` does not need the target to exist), so the refusal
    reads the same whether or not a file exists out there: the error tells nothing about it."""
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):  # a link loop: certainly not a file of this folder
        return False


def _fewshot_image(images_dir: Path, name: str) -> np.ndarray:
    """One image of the few-shot-nar image folder, refused if a link takes it outside the folder."""
    path = images_dir / name
    if not _stays_inside(path, images_dir):
        raise PuzzleError("image leads outside the image folder (through a link)", path)
    return load_grey_png(path)


def _option_count(data: Any, where: str, json_path: Path) -> int:
    if not isinstance(data, dict):
        raise PuzzleError(f"{where}: expected an object", json_path)
    names = data.get("options")
    if not isinstance(names, list) or len(names) < 2:
        raise PuzzleError(f"{where}: 'options' must list at least two PNG files", json_path)
    return len(names)


def _parse_item(folder: Path, data: Any, where: str, json_path: Path, answer_required: bool):
    """One example or the query of our format: (input, options, answer, input_board, option_boards)."""
    _option_count(data, where, json_path)
    if "input" not in data:
        raise PuzzleError(f"{where}: missing 'input'", json_path)
    names = data["options"]
    if answer_required and data.get("answer") is None:
        raise PuzzleError(f"{where}: missing 'answer' (every example needs its answer)", json_path)
    answer = _index(data.get("answer"), len(names), where, json_path, required=answer_required)
    image = load_grey_png(_image_ref(folder, data["input"], f"{where}.input", json_path))
    options = np.stack([load_grey_png(_image_ref(folder, name, f"{where}.options[{o}]", json_path))
                        for o, name in enumerate(names)])
    input_board = option_boards = None
    if data.get("input_board") is not None:
        input_board = _our_board(data["input_board"], f"{where}.input_board", json_path)
    if data.get("option_boards") is not None:
        raw = data["option_boards"]
        if not isinstance(raw, list) or len(raw) != len(names):
            raise PuzzleError(f"{where}: 'option_boards' must hold one board per option", json_path)
        option_boards = tuple(_our_board(b, f"{where}.option_boards[{i}]", json_path) for i, b in enumerate(raw))
    return image, options, answer, input_board, option_boards


def _our_board(data: Any, where: str, json_path: Path) -> Board:
    board = _board_or_none(data)
    if board is None:
        raise PuzzleError(f"{where}: expected a board as [[shape, x, y], ...]", json_path)
    return board


def load_puzzle(folder: str | Path) -> Puzzle:
    """Read one puzzle folder of our format (the folder, or its puzzle.json)."""
    folder = Path(folder)
    if folder.name == PUZZLE_JSON and folder.is_file():
        folder = folder.parent
    json_path = folder / PUZZLE_JSON
    if not folder.is_dir():
        raise PuzzleError("no such puzzle folder", folder)
    data = read_json(json_path)
    if not isinstance(data, dict):
        raise PuzzleError("expected a JSON object with 'examples' and 'query'", json_path)
    if data.get("format", FORMAT_NAME) != FORMAT_NAME:
        raise PuzzleError(f"unknown format {data.get('format')!r} (expected {FORMAT_NAME!r})", json_path)
    version = data.get("version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise PuzzleError(f"unsupported format version {version!r} (this tool reads {FORMAT_VERSION})", json_path)
    raw_examples = data.get("examples")
    if not isinstance(raw_examples, list) or not raw_examples:
        raise PuzzleError("'examples' must be a non-empty list", json_path)
    if "query" not in data:
        raise PuzzleError("missing 'query'", json_path)
    _check_counts([_option_count(item, f"examples[{e}]", json_path) for e, item in enumerate(raw_examples)],
                  _option_count(data["query"], "query", json_path), json_path)
    examples = [Example(*_parse_item(folder, item, f"examples[{e}]", json_path, True))
                for e, item in enumerate(raw_examples)]
    query, query_options, query_answer, query_board, query_option_boards = _parse_item(
        folder, data["query"], "query", json_path, False)
    program = data.get("program")
    if program is not None and _program_or_none(program) is None:
        raise PuzzleError("'program' must be a list of token strings", json_path)
    family = data.get("family")
    return Puzzle(
        id=str(data.get("id", folder.name)), examples=examples, query=query, query_options=query_options,
        query_answer=query_answer, program=program, family=family if isinstance(family, str) else None,
        query_board=query_board, query_option_boards=query_option_boards,
    )


def _check_counts(example_counts: Sequence[int], query_count: int, path: Path, where: str = "") -> None:
    for e, count in enumerate(example_counts):
        if count != query_count:
            raise PuzzleError(
                f"{where}example {e} has {count} options but the query has {query_count}", path)


# ----------------------------------------------------------------------------------------------
# The few-shot-nar layout


def fewshot_names(i: int, n_examples: int, n_options: int) -> dict[str, Any]:
    """The published image names of problem ``i``."""
    return {
        "inputs": [f"{i}_{e}_input.png" for e in range(n_examples)],
        "options": [[f"{i}_{e}_{o}_option.png" for o in range(n_options)] for e in range(n_examples)],
        "query": f"{i}_query.png",
        "query_options": [f"{i}_{o}_query_option.png" for o in range(n_options)],
    }


def write_fewshot(puzzles: Iterable[Puzzle], problems_json: str | Path, images_dir: str | Path) -> int:
    """Write puzzles in the few-shot-nar layout; problem i is the i-th puzzle. Returns the count.

    Boards are written in our ``[[shape, x, y], ...]`` encoding (null when unknown); the program as
    its token list (null when unknown)."""
    problems_json, images_dir = Path(problems_json), Path(images_dir)
    make_folder(images_dir)
    problems = []
    for i, puzzle in enumerate(puzzles):
        names = fewshot_names(i, puzzle.n_examples, puzzle.n_options)
        examples = []
        for e, example in enumerate(puzzle.examples):
            if example.options.shape[0] != puzzle.n_options:
                raise ValueError(f"puzzle {puzzle.id}: example {e} and the query differ in option count")
            save_grey_png(example.input, images_dir / names["inputs"][e])
            for image, name in zip(example.options, names["options"][e]):
                save_grey_png(image, images_dir / name)
            examples.append([
                None if example.input_board is None else example.input_board.to_json(),
                _boards_json(example.option_boards) or [None] * puzzle.n_options,
                example.answer,
            ])
        save_grey_png(puzzle.query, images_dir / names["query"])
        for image, name in zip(puzzle.query_options, names["query_options"]):
            save_grey_png(image, images_dir / name)
        problems.append([
            examples,
            None if puzzle.query_board is None else puzzle.query_board.to_json(),
            _boards_json(puzzle.query_option_boards) or [None] * puzzle.n_options,
            puzzle.query_answer,
            None if puzzle.program is None else list(puzzle.program),
        ])
    make_folder(problems_json.parent)
    atomic_write_text(problems_json, dumps_json(problems))
    return len(problems)


def fewshot_problem(data: Any, i: int, images_dir: Path, json_path: Path) -> Puzzle:
    """Problem ``i`` of a few-shot-nar problems JSON (its list entry ``data``), images read from
    ``images_dir``; a malformed entry is a PuzzleError naming it."""
    where = f"problem {i}"
    if not isinstance(data, list) or len(data) < 4:
        raise PuzzleError(f"{where}: expected [examples, query, query_options, solution, program]", json_path)
    raw_examples, raw_query, raw_query_options, solution = data[:4]
    program = _program_or_none(data[4]) if len(data) > 4 else None
    if not isinstance(raw_examples, list) or not raw_examples:
        raise PuzzleError(f"{where}: examples must be a non-empty list", json_path)
    if not isinstance(raw_query_options, list) or len(raw_query_options) < 2:
        raise PuzzleError(f"{where}: query_options must list at least two boards", json_path)
    n_options = len(raw_query_options)
    counts, answers, input_boards, option_boards = [], [], [], []
    for e, item in enumerate(raw_examples):
        if not isinstance(item, list) or len(item) < 3 or not isinstance(item[1], list):
            raise PuzzleError(f"{where}, example {e}: expected [input_board, option_boards, solution_index]",
                              json_path)
        counts.append(len(item[1]))
        input_boards.append(_board_or_none(item[0]))
        boards = [_board_or_none(b) for b in item[1]]
        option_boards.append(None if any(b is None for b in boards) else tuple(boards))
    _check_counts(counts, n_options, json_path, where=f"{where}: ")
    for e, item in enumerate(raw_examples):
        answers.append(_index(item[2], n_options, f"{where}, example {e}", json_path, required=True))
    query_answer = _index(solution, n_options, f"{where}, query", json_path, required=False)
    names = fewshot_names(i, len(raw_examples), n_options)
    examples = [
        Example(_fewshot_image(images_dir, names["inputs"][e]),
                np.stack([_fewshot_image(images_dir, n) for n in names["options"][e]]),
                answers[e], input_boards[e], option_boards[e])
        for e in range(len(raw_examples))
    ]
    query_boards = [_board_or_none(b) for b in raw_query_options]
    return Puzzle(
        id=str(i), examples=examples, query=_fewshot_image(images_dir, names["query"]),
        query_options=np.stack([_fewshot_image(images_dir, n) for n in names["query_options"]]),
        query_answer=query_answer, program=program, family=None, query_board=_board_or_none(raw_query),
        query_option_boards=None if any(b is None for b in query_boards) else tuple(query_boards),
    )


def read_fewshot(problems_json: str | Path, images_dir: str | Path, limit: int | None = None) -> list[Puzzle]:
    """Read the few-shot-nar layout (the first ``limit`` problems when given)."""
    problems_json, images_dir = Path(problems_json), Path(images_dir)
    data = read_json(problems_json)
    if not isinstance(data, list):
        raise PuzzleError("expected a JSON list of problems", problems_json)
    if not images_dir.is_dir():
        raise PuzzleError("no such image folder", images_dir)
    count = len(data) if limit is None else min(limit, len(data))
    return [fewshot_problem(data[i], i, images_dir, problems_json) for i in range(count)]


# ----------------------------------------------------------------------------------------------
# Detection and discovery


def natural_key(path: Path) -> list:
    """Sort key that orders file names as people do: ``p2`` before ``p10``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def has_png(folder: Path) -> bool:
    """Whether ``folder`` holds a PNG file (a puzzle folder, or one left unfinished)."""
    return any(p.suffix.lower() == ".png" for p in folder.iterdir())


def _fewshot_parts(folder: Path) -> tuple[Path, Path] | None:
    """(problems JSON, image folder) if ``folder`` holds the few-shot-nar layout, else None."""
    jsons = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".json")
    if not jsons:
        return None
    image_dirs = sorted(p for p in folder.iterdir() if p.is_dir() and has_png(p))
    if len(jsons) > 1:
        raise PuzzleError(f"several JSON files ({', '.join(p.name for p in jsons)}); pass the problems file",
                          folder)
    if not image_dirs:
        if has_png(folder):  # images beside the JSON rather than in a folder of their own
            return jsons[0], folder
        raise PuzzleError(f"{jsons[0].name} has no image folder beside it", folder)
    if len(image_dirs) > 1:
        named = [d for d in image_dirs if d.name == FEWSHOT_IMAGES]
        if len(named) != 1:
            raise PuzzleError(
                f"several image folders ({', '.join(d.name for d in image_dirs)}); expected one", folder)
        image_dirs = named
    return jsons[0], image_dirs[0]


def detect_layout(path: str | Path) -> str:
    """'puzzle' (one of our folders), 'folders' (a folder of them) or 'fewshot'; PuzzleError otherwise."""
    path = Path(path)
    if not path.exists():
        raise PuzzleError("no such file or folder", path)
    if path.is_file():
        if path.name == PUZZLE_JSON:
            return "puzzle"
        if path.suffix.lower() == ".json":
            return "fewshot"
        raise PuzzleError("expected a puzzle folder, a puzzle.json, or a few-shot-nar problems JSON", path)
    if (path / PUZZLE_JSON).is_file():
        return "puzzle"
    if any((child / PUZZLE_JSON).is_file() for child in path.iterdir() if child.is_dir()):
        return "folders"
    if _fewshot_parts(path) is not None:
        return "fewshot"
    raise PuzzleError(
        "not a puzzle folder (no puzzle.json), a folder of puzzle folders, or a few-shot-nar layout"
        " (one problems JSON and one image folder)", path)


def load_puzzles(path: str | Path, limit: int | None = None) -> list[Puzzle]:
    """Every puzzle under ``path``: one puzzle folder, a folder of puzzle folders (natural name
    order), or a few-shot-nar layout (the folder, or its problems JSON)."""
    path = Path(path)
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    layout = detect_layout(path)
    if layout == "puzzle":
        return [load_puzzle(path)][:limit]
    if layout == "folders":
        folders = sorted((c for c in path.iterdir() if (c / PUZZLE_JSON).is_file()), key=natural_key)
        return [load_puzzle(f) for f in folders[:limit]]
    return read_fewshot(*fewshot_files(path), limit)


def fewshot_files(path: Path) -> tuple[Path, Path]:
    """The problems JSON and image folder of the few-shot-nar layout at ``path`` (the folder, or its
    problems JSON), once :func:`detect_layout` has said it is one."""
    parts = _fewshot_parts(path.parent if path.is_file() else path)
    if path.is_file() and (parts is None or parts[0] != path):
        raise PuzzleError("no image folder found beside this problems JSON", path)
    assert parts is not None
    return parts


#: Image roles, recognised from both layouts' file names.
IMAGE_KINDS = ("input", "option", "query", "query_option")
_KIND_PATTERNS = (
    ("query_option", re.compile(r"^(\d+_\d+_query_option|query_option_\d+)\.png$")),
    ("query", re.compile(r"^(\d+_query|query)\.png$")),
    ("option", re.compile(r"^(\d+_\d+_\d+_option|example_\d+_option_\d+)\.png$")),
    ("input", re.compile(r"^(\d+_\d+_input|example_\d+_input)\.png$")),
)


def image_kind(path: str | Path) -> str | None:
    """The role of a puzzle image from its name ('input', 'option', 'query', 'query_option'), or None."""
    name = Path(path).name
    for kind, pattern in _KIND_PATTERNS:
        if pattern.match(name):
            return kind
    return None


def iter_image_paths(path: str | Path, kinds: Iterable[str] | None = None) -> list[Path]:
    """Every PNG under ``path`` (a puzzle tree or a few-shot-nar layout, or one PNG), in natural
    order; with ``kinds``, only images of those roles (e.g. ``("input",)`` for example inputs)."""
    path = Path(path)
    wanted = None if kinds is None else set(kinds)
    if wanted is not None and not wanted <= set(IMAGE_KINDS):
        raise ValueError(f"unknown image kinds {sorted(wanted - set(IMAGE_KINDS))}; known: {IMAGE_KINDS}")
    if not path.exists():
        raise PuzzleError("no such file or folder", path)
    if path.is_file():
        paths = [path] if path.suffix.lower() == ".png" else []
    else:
        paths = sorted((p for p in path.rglob("*") if p.suffix.lower() == ".png" and p.is_file()),
                       key=lambda p: (natural_key(p.parent), str(p.parent), natural_key(p)))
    if wanted is not None:
        paths = [p for p in paths if image_kind(p) in wanted]
    if not paths:
        raise PuzzleError("no PNG images found" + ("" if wanted is None else f" of kind {sorted(wanted)}"), path)
    return paths
