// policy-args.mjs - the migration policy options shared by check-migrated.mjs and fill-chroma.mjs.
//   --duplicates first|last  --invalid-metadata drop|stringify  --rename OLD=NEW (repeatable)
//   --skip-invalid-records  --collection NAME (repeatable)  --dimension-rule majority|first
//   --dedup-scope all|valid   (see lib/expected.mjs)

export const POLICY_USAGE = '[--duplicates first|last] [--invalid-metadata drop|stringify] [--rename OLD=NEW ...] '
  + '[--skip-invalid-records] [--collection NAME ...] [--dimension-rule majority|first] [--dedup-scope all|valid]';

// Consumes policy options from argv at index i; returns the new index, or -1 if argv[i] is not one.
export function takePolicyArg(argv, i, p) {
  const a = argv[i];
  const val = () => {
    if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
    return argv[i + 1];
  };
  switch (a) {
    case '--duplicates': {
      const v = val();
      if (!['first', 'last'].includes(v)) throw new Error('--duplicates must be first or last');
      p.duplicates = v;
      return i + 1;
    }
    case '--invalid-metadata': {
      const v = val();
      if (!['drop', 'stringify'].includes(v)) throw new Error('--invalid-metadata must be drop or stringify');
      p.invalidMetadata = v;
      return i + 1;
    }
    case '--rename': {
      const v = val();
      const eq = v.indexOf('=');
      if (eq <= 0) throw new Error('--rename needs OLD=NEW');
      p.rename.set(v.slice(0, eq), v.slice(eq + 1));
      return i + 1;
    }
    case '--skip-invalid-records':
      p.skipInvalidRecords = true;
      return i;
    case '--collection':
      (p.only ??= new Set()).add(val());
      return i + 1;
    case '--dimension-rule': {
      const v = val();
      if (!['majority', 'first'].includes(v)) throw new Error('--dimension-rule must be majority or first');
      p.dimensionRule = v;
      return i + 1;
    }
    case '--dedup-scope': {
      const v = val();
      if (!['all', 'valid'].includes(v)) throw new Error('--dedup-scope must be all or valid');
      p.dedupScope = v;
      return i + 1;
    }
    default:
      return -1;
  }
}

export function defaultPolicies() {
  return {
    duplicates: 'first', invalidMetadata: 'fail', rename: new Map(), skipInvalidRecords: false, only: null,
    dimensionRule: 'majority', dedupScope: 'all',
  };
}
