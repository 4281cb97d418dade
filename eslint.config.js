import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ENV_ONCE = { selector: "MemberExpression[object.name='process'][property.name='env']", message: 'Read the environment once, in src/main.ts, and pass values down.' };
// `key in record` is true for "constructor", "toString" and every other inherited name, so an id
// typed in chat would pass a lookup it should fail. A literal on the left (`'error' in result`) is a
// fixed key narrowing a union, not a lookup of input, and stays allowed.
const OWN_KEYS_ONLY = { selector: "BinaryExpression[operator='in'][left.type!='Literal']", message: 'Use Object.hasOwn(record, key) (or a Map): `in` also finds inherited names such as "constructor".' };

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', 'coverage/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', ENV_ONCE, OWN_KEYS_ONLY],
    },
  },
  { files: ['test/**'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  { files: ['src/main.ts', 'src/cli.ts', 'src/integrations/command/**', 'src/integrations/kubernetes/**'], rules: { 'no-restricted-syntax': ['error', OWN_KEYS_ONLY] } },
  { files: ['test/**', 'bench/**'], rules: { 'no-restricted-syntax': 'off' } },
);
