def test_eval(value):
    return eval(value)
