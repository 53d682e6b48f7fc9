// Lint: typescript-eslint's recommended rules, plus the project's own rule that
// detection code never reads the wall clock or unseeded randomness (STYLE.md).
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const clockBan = {
  'no-restricted-syntax': ['error',
    { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'Detection code takes time from events (eventTimeMs), not Date.now().' },
    { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Detection code takes time from events, not new Date().' },
    { selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']", message: 'Use a seeded RNG in detection code.' },
  ],
}

export default tseslint.config(
  { ignores: ['node_modules/**', '.pitboss/**', 'schemas/generated/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  { files: ['detectors/**/*.ts', 'graph/**/*.ts', 'models/**/*.ts'], rules: clockBan },
)
