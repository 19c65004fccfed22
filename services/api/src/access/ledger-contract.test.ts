import { describeLedger } from './testing/describe-ledger.ts'
import { ledgerBackends } from './testing/ledger-backends.ts'

for (const [name, makeFixture] of ledgerBackends) {
  describeLedger(name, makeFixture)
}
