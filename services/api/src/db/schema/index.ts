export * from './assets.ts'
export * from './generations.ts'
export * from './workspaces.ts'
