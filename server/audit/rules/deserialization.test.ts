import { describe, expect, it } from 'vitest';
import { deserializationRule } from './deserialization';
import { hitsOf } from './testing';

const run = (source: string) => hitsOf(deserializationRule, source);

describe('code.deserialization', () => {
  it('fires on pickle.loads, marshal.loads and yaml.load without a safe loader', () => {
    const source = `import marshal
import pickle
import yaml
from yaml import load, FullLoader

def view(request):
    a = pickle.loads(request.body)
    b = marshal.loads(request.body)
    c = yaml.load(request.body)
    d = yaml.load(request.body, Loader=yaml.FullLoader)
    e = load(request.body, FullLoader)
    f = yaml.unsafe_load(request.body)
`;
    expect(run(source)).toEqual(['7:9', '8:9', '9:9', '10:9', '11:9', '12:9']);
  });

  it('stays silent on safe loaders, safe_load, dumps and json', () => {
    const source = `import json
import pickle
import yaml
from yaml import CSafeLoader as Loader

def view(request, obj):
    a = yaml.load(request.body, Loader=yaml.SafeLoader)
    b = yaml.load(request.body, yaml.CSafeLoader)
    c = yaml.load(request.body, Loader=Loader)
    d = yaml.safe_load(request.body)
    e = pickle.dumps(obj)
    f = json.loads(request.body)
    g = pickle.loads(b"\\x80\\x04N.")
`;
    expect(run(source)).toEqual([]);
  });
});
