"""The writers: well-formed, namespaced RSS 2.0 parsed back with ElementTree; TSV columns; atomic files."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest

from omniretail.channels.feeds.formats import AtomicFile, RssWriter, TsvWriter
from omniretail.channels.feeds.spec import G_NAMESPACE, LOCAL_ATTRIBUTES, PRODUCT_ATTRIBUTES

ITEMS = [
    {"id": "SKU-1", "title": "Fish & Chips <large>", "description": "line one\nline\ttwo\x00\x0b", "price": "15.00 PLN",
     "additional_image_link": ["https://cdn.example/a,b.jpg", "https://cdn.example/c.jpg"], "availability": "in_stock"},
    {"id": "SKU-2", "title": "Zażółć gęślą jaźń \"quoted\"", "price": "7.50 PLN", "availability": "out_of_stock"},
]


def rss(items, attributes=PRODUCT_ATTRIBUTES) -> str:
    out = io.StringIO()
    writer = RssWriter(out, attributes)
    writer.begin(title="Shop & Co", link="https://shop.example/", description="All <products>")
    for item in items:
        writer.write(item)
    writer.end()
    return out.getvalue()


def test_rss_is_well_formed_namespaced_and_escaped():
    text = rss(ITEMS)
    assert 'xmlns:g="http://base.google.com/ns/1.0"' in text
    root = ET.fromstring(text)
    assert root.tag == "rss" and root.get("version") == "2.0"
    assert root.find("channel/title").text == "Shop & Co"
    items = root.findall("channel/item")
    assert len(items) == 2
    g = f"{{{G_NAMESPACE}}}"
    assert all(child.tag.startswith(g) for item in items for child in item)
    first = items[0]
    assert first.find(g + "title").text == "Fish & Chips <large>"
    assert first.find(g + "description").text == "line one\nline\ttwo"  # characters XML cannot carry are dropped
    assert [e.text for e in first.findall(g + "additional_image_link")] == ["https://cdn.example/a,b.jpg",
                                                                            "https://cdn.example/c.jpg"]
    assert items[1].find(g + "title").text == "Zażółć gęślą jaźń \"quoted\""
    assert items[1].find(g + "additional_image_link") is None  # empty attributes are not written
    order = [child.tag[len(g):] for child in first]
    assert list(dict.fromkeys(order)) == [a for a in PRODUCT_ATTRIBUTES if a in ITEMS[0]]


def test_tsv_header_is_the_attribute_names_and_values_stay_on_one_line():
    out = io.StringIO()
    writer = TsvWriter(out, LOCAL_ATTRIBUTES)
    writer.begin()
    writer.write({"store_code": "S1", "id": "SKU\t1", "availability": "in_stock", "quantity": "3"})
    lines = out.getvalue().split("\n")
    assert lines[0].split("\t") == list(LOCAL_ATTRIBUTES)
    cells = lines[1].split("\t")
    assert len(cells) == len(LOCAL_ATTRIBUTES) and cells[:4] == ["S1", "SKU 1", "in_stock", "3"]

    out = io.StringIO()
    writer = TsvWriter(out, PRODUCT_ATTRIBUTES)
    writer.begin()
    writer.write(ITEMS[0])
    row = dict(zip(PRODUCT_ATTRIBUTES, out.getvalue().split("\n")[1].split("\t"), strict=True))
    assert row["description"].startswith("line one line two")
    # repeated values: comma-separated, a comma inside a URL encoded (answer/6324370)
    assert row["additional_image_link"] == "https://cdn.example/a%2Cb.jpg,https://cdn.example/c.jpg"


def test_atomic_file_replaces_only_when_complete(tmp_path):
    target = tmp_path / "feeds" / "products.xml"
    with AtomicFile(target) as fh:
        fh.write("first")
    assert target.read_text() == "first"
    with pytest.raises(RuntimeError), AtomicFile(target) as fh:
        fh.write("half of the second")
        raise RuntimeError("database went away")
    assert target.read_text() == "first"
    assert [p.name for p in target.parent.iterdir()] == ["products.xml"]  # no temporary file left
