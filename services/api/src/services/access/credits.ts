import { creditsToUnits, unitsToCredits } from '../../access/credit-units.ts'
import type { Ledger, UsageSummary } from '../../access/ledger.ts'

/** A workspace's credits as the API states them (credits, not ledger units). */
export type CreditUsage = {
  workspaceId: string
  balance: number
  granted: number
  spent: number
  held: number
  byDayAndModel: {
    day: string
    model: string | null
    requests: number
    images: number
    spent: number
  }[]
}

function inCredits(summary: UsageSummary): CreditUsage {
  return {
    workspaceId: summary.workspaceId,
    balance: unitsToCredits(summary.balance),
    granted: unitsToCredits(summary.granted),
    spent: unitsToCredits(summary.spent),
    held: unitsToCredits(summary.held),
    byDayAndModel: summary.byDayAndModel.map((row) => ({
      ...row,
      spent: unitsToCredits(row.spent),
    })),
  }
}

/** The API's view of the ledger: amounts in credits in and out, units inside. */
export function createCreditService(ledger: Ledger) {
  return {
    ledger,
    balance: async (workspaceId: string) => unitsToCredits(await ledger.balance(workspaceId)),
    /** `reference` makes the grant happen once however often it is repeated. */
    async grant(workspaceId: string, credits: number, reference?: string) {
      const result = await ledger.grant(workspaceId, creditsToUnits(credits), { reference })
      return { granted: result.granted, balance: unitsToCredits(result.balance) }
    },
    usage: async (workspaceId: string) => inCredits(await ledger.usageSummary(workspaceId)),
  }
}

export type CreditService = ReturnType<typeof createCreditService>
