import os


def test_shell(name):
    os.system("ls " + name)
