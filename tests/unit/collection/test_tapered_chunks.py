"""The bulk import's chunks: full ones, then the last cut into pieces the pipeline can overlap."""

from services.collection.service_layer.bulk_import import tapered


def sizes(lines: int, size: int) -> list[int]:
    numbered = [(n, b"{}") for n in range(1, lines + 1)]
    chunks = list(tapered(iter(numbered), size))
    assert [line for chunk in chunks for line in chunk] == numbered  # every line once, in file order
    return [len(chunk) for chunk in chunks]


def test_the_last_chunk_is_cut_in_quarters() -> None:
    assert sizes(20_000, 5000) == [5000, 5000, 5000, 1250, 1250, 1250, 1250]
    assert sizes(23_000, 5000) == [5000, 5000, 5000, 5000, 750, 750, 750, 750]


def test_pieces_are_never_smaller_than_500_lines() -> None:
    assert sizes(1500, 400) == [400, 400, 400, 300]
    assert sizes(5400, 5000) == [5000, 400]
    assert sizes(1200, 5000) == [500, 500, 200]
    assert sizes(6, 5000) == [6]
    assert sizes(0, 5000) == []
