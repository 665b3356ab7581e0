/**
 * The few `Reflect` metadata functions @peculiar/x509 (through tsyringe) needs, since no
 * reflect-metadata package is installed. Import this before loading @peculiar/x509.
 */

type MetadataTarget = object;

const metadataByTarget = new WeakMap<MetadataTarget, Map<unknown, unknown>>();

function defineMetadata(key: unknown, value: unknown, target: MetadataTarget): void {
  let metadata = metadataByTarget.get(target);
  if (!metadata) {
    metadata = new Map();
    metadataByTarget.set(target, metadata);
  }
  metadata.set(key, value);
}

function getOwnMetadata(key: unknown, target: MetadataTarget): unknown {
  return metadataByTarget.get(target)?.get(key);
}

function getMetadata(key: unknown, target: MetadataTarget): unknown {
  for (let current: object | null = target; current; current = Object.getPrototypeOf(current)) {
    const value = metadataByTarget.get(current)?.get(key);
    if (value !== undefined) return value;
  }
  return undefined;
}

function metadata(key: unknown, value: unknown): (target: MetadataTarget) => void {
  return (target) => defineMetadata(key, value, target);
}

const reflect = Reflect as unknown as Record<string, unknown>;
if (typeof reflect.getMetadata !== 'function') {
  Object.assign(reflect, { defineMetadata, getOwnMetadata, getMetadata, metadata });
}

export {};
