import { describe, expect, it } from 'vitest';
import { commandInjectionRule } from './command-injection';
import { hitsOf } from './testing';

const run = (source: string) => hitsOf(commandInjectionRule, source);

describe('code.command-injection', () => {
  it('fires on eval/exec, os.system, os.popen and shell=True with a non-literal', () => {
    const source = `import os
import subprocess as sp
from os import system
from subprocess import check_output

def run(request, name):
    eval(request.GET["expr"])
    exec(name)
    os.system("ls " + name)
    system(f"rm {name}")
    os.popen(name)
    sp.run(f"gzip {name}", shell=True)
    check_output("grep " + name, shell=True)
    sp.getoutput("cat " + name)
`;
    expect(run(source)).toEqual(['7:5', '8:5', '9:5', '10:5', '11:5', '12:5', '13:5', '14:5']);
  });

  it('stays silent on argument lists, literal commands and look-alike methods', () => {
    const source = `import ast
import os
import subprocess

def run(request, name, model):
    subprocess.run(["ls", name])
    subprocess.run(["grep", name, "f"], shell=False)
    subprocess.Popen(["tar", "czf", name])
    subprocess.run("ls -la", shell=True)
    os.system("make clean")
    eval("1 + 1")
    ast.literal_eval(name)
    model.eval(name)
    name.exec(name)
`;
    expect(run(source)).toEqual([]);
  });

  it('does not treat a locally defined eval as the builtin', () => {
    const source = `def eval(expression):
    return expression

def view(request):
    return eval(request.GET["x"])
`;
    expect(run(source)).toEqual([]);
  });
});
