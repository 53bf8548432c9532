from hypothesis import given, settings, strategies as st
from sqlalchemy import text

@settings(max_examples=5, deadline=None)
@given(st.integers(0, 10))
async def test_h(session, x):
    r = (await session.execute(text("select :x"), {"x": x})).scalar()
    assert r == x
