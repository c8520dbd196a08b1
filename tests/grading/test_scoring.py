from grading.scoring import is_passed, percent


def test_percent():
    assert percent(7, 10) == 70.0
    assert percent(2, 3) == 66.7
    assert percent(0, 0) == 0.0
    assert percent(5, 0) == 0.0
    assert percent(-2, 10) == 0.0
    assert percent(12, 10) == 100.0


def test_is_passed_at_the_mark():
    assert is_passed(70.0, 70)
    assert not is_passed(69.9, 70)
    assert is_passed(percent(2, 3), 66.7)
