export * from './workspaces.ts'
