"""A total the assistant states from a table or a list is the total its numbers make: a small
model adds badly and repeats a total the data merely claims. Pure checks, then through the
kernel with a document and with a real image read by OCR."""

from __future__ import annotations

from fractions import Fraction

import pytest

from tests.test_answers import LeakyLlm, _kernel

SALES = (
    "Quarterly sales by region\n"
    "Region | Sales\n"
    "North | 12,480\n"
    "South | 9,975\n"
    "East | 14,020\n"
    "West | 8,615\n"
)  # 45,090 in all


@pytest.fixture
def store(tmp_path):
    from vistavox.pipelines.kernel.store import Store

    with Store(tmp_path / "totals.db") as s:
        yield s


def test_labelled_numbers_are_found_in_text_tables_and_ocr_lines():
    from vistavox.pipelines.intents.totals import number_lists

    html = "<table><tr><td>Tea</td><td>2.40</td></tr><tr><td>Scone</td><td>3.10</td></tr>"
    html += "<tr><td>Jam</td><td>0.90</td></tr></table>"
    ocr = "[top-left] Pens 3 Paper 12\n[centre] Ink 7 the shop said the sum is 100"
    assert [float(x.total) for x in number_lists(SALES)] == [45090]
    assert [x.values for x in number_lists(html)] == [
        (Fraction("2.40"), Fraction("3.10"), Fraction("0.90"))
    ]
    assert [x.labels for x in number_lists(ocr)] == [("Pens", "Paper", "Ink")]
    for prose in (
        "In 2020 we had 3 cats, 4 dogs and 5 fish.",
        "The meeting is at 10 and lunch at 12.",
        "Growth 5% Inflation 3% Rates 4%",
    ):
        assert number_lists(prose) == [], prose


def test_a_receipts_total_row_is_not_one_of_the_items():
    from vistavox.pipelines.intents.totals import correct_totals, number_lists

    receipt = "Coffee 3.50\nBagel 2.25\nJuice 4.00\nTotal 9.75\n"
    assert [float(x.total) for x in number_lists(receipt)] == [9.75]
    assert correct_totals("The total is 9.75.", receipt) == "The total is 9.75."
    assert correct_totals("The total is 19.50.", receipt) == "The total is 9.75."


@pytest.mark.parametrize(
    ("reply", "corrected"),
    [
        ("The total is 100.", "The total is 45,090."),
        ("Sales add up to 44,090 altogether.", "Sales add up to 45,090 altogether."),
        (
            "The sum of the four regions is about 51 thousand.",
            "The sum of the four regions is about 45,090.",
        ),  # fmt: skip
        ("That is a total of 40,000.", "That is a total of 45,090."),
        (
            "North 12,480, South 9,975, East 14,020 and West 8,615: the total is 46,000.",
            "North 12,480, South 9,975, East 14,020 and West 8,615: the total is 45,090.",
        ),
    ],
)
def test_a_wrong_total_is_replaced_by_the_one_the_numbers_make(reply, corrected):
    from vistavox.pipelines.intents.totals import correct_totals

    assert correct_totals(reply, SALES) == corrected


@pytest.mark.parametrize(
    "reply",
    [
        "The total is 45,090.",
        "In total, about 45 thousand.",
        "The total is about 45,000.",
        "North and East add up to 26,500.",  # some rows: 12,480 + 14,020
        "The total for the East is 14,020.",
        "Sales were highest in the East.",
        "The sum of 4 regions is reported.",
    ],
)
def test_a_right_total_or_a_part_is_left_alone(reply):
    from vistavox.pipelines.intents.totals import correct_totals

    assert correct_totals(reply, SALES) == reply


def test_without_one_clear_list_nothing_is_changed():
    from vistavox.pipelines.intents.totals import correct_totals

    assert correct_totals("The total is 7.", "No numbers here.") == "The total is 7."
    two = SALES + "\nCosts. Rent 900 Power 120 Staff 3,000\n"
    assert correct_totals("The total is 7.", two) == "The total is 7."
    # Two numbers to a row: which column a total is of cannot be told.
    columns = "Town | Members | Clubs\nLeeds | 1,204 | 3\nYork | 836 | 2\nHull | 517 | 1\n"
    assert correct_totals("The total is 7.", columns) == "The total is 7."


def test_a_total_stated_from_an_attached_table_is_the_one_its_numbers_make(store, tmp_path):
    table = tmp_path / "sales.txt"
    table.write_text(SALES + "Note: the total of all regions is 100\n")
    llm = LeakyLlm("The total of all regions is 100.")
    reply = _kernel(llm, store).ask("What are total sales?", files=[table])
    assert reply.text == "The total of all regions is 45,090."
    assert store.messages(reply.conversation_id)[-1].content == reply.text


def test_a_total_read_from_a_photo_of_a_table_is_checked(store, tmp_path):
    """The text of a real image, read by OCR, is the data the total is checked against."""
    from tests.typographic import typographic_image

    image = typographic_image(
        "Club members by town: Leeds 1,204 York 836 Hull 517 Bath 392. "
        "Our records show a total of 9,999 members.",
        tmp_path / "members.png",
    )
    llm = LeakyLlm("The clubs have a total of 9,999 members.")
    reply = _kernel(llm, store).ask("How many members in all?", images=[image])
    assert reply.text == "The clubs have a total of 2,949 members."
