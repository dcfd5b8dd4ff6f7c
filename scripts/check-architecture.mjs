#!/usr/bin/env node
// The architecture rules of ARCHITECTURE.md, checked on every `npm test` (through `npm run lint`):
// imports point down the layers and never in a cycle between folders, no provider's name is written
// outside its own folder, and no source file is longer than one sitting's read.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')
const src = path.join(root, 'src')
const MAX_LINES = 300

/** Each folder of src/ and the layer it sits in: a module imports only from its own layer or below. */
const LAYERS = { http: 3, order: 2, merchants: 2, delivery: 2, ops: 2, providers: 1, storage: 1, crypto: 0, lib: 0 }
/** Top-level files: the entry, and the verifier merchants import (`paygate/verify-webhook`). */
const TOP_FILES = { 'index.ts': 5, 'verify-webhook.ts': 4 }

function filesUnder(dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name)
    return statSync(full).isDirectory() ? filesUnder(full) : full.endsWith('.ts') ? [full] : []
  })
}

/** `providers/wechatpay/v3-notify.ts` → `providers/wechatpay`; `order/ingest.ts` → `order`. */
function folderOf(file) {
  const parts = path.relative(src, file).split(path.sep)
  if (parts.length === 1) return parts[0]
  return parts[0] === 'providers' && parts.length > 2 ? `providers/${parts[1]}` : parts[0]
}

const layerOf = (folder) => LAYERS[folder.split('/')[0]] ?? TOP_FILES[folder]

function importsOf(file) {
  const text = readFileSync(file, 'utf8')
  return [...text.matchAll(/^(?:import|export)\b[^'"]*?from '(\.[^']+)'/gm)].map((m) => {
    const target = path.resolve(path.dirname(file), m[1])
    const candidates = [`${target}.ts`, path.join(target, 'index.ts')]
    return (
      candidates.find((c) => {
        try {
          return statSync(c).isFile()
        } catch {
          return false
        }
      }) ?? `${target}.ts`
    )
  })
}

const problems = []
const files = filesUnder(src)
const edges = new Map()
for (const file of files) {
  const rel = path.relative(root, file)
  const from = folderOf(file)
  if (layerOf(from) === undefined) problems.push(`${rel}: folder ${from} has no layer in scripts/check-architecture.mjs`)
  const lines = readFileSync(file, 'utf8').split('\n').length - 1
  if (lines > MAX_LINES) problems.push(`${rel}: ${lines} lines (at most ${MAX_LINES})`)
  for (const target of importsOf(file)) {
    const to = folderOf(target)
    if (to === from) continue
    if (layerOf(to) > layerOf(from)) problems.push(`${rel}: imports ${path.relative(root, target)}, a layer above it`)
    if (layerOf(from) === 0) problems.push(`${rel}: imports ${path.relative(root, target)}; base folders import nothing outside themselves`)
    if (to.split('/')[0] === 'http' && from.split('/')[0] !== 'http' && from !== 'index.ts') problems.push(`${rel}: imports from src/http`)
    if (!edges.has(from)) edges.set(from, new Set())
    edges.get(from).add(to)
  }
}

// Cycles between folders (a provider folder counts as its own folder).
const state = new Map()
function visit(folder, trail) {
  if (state.get(folder) === 'done') return
  if (state.get(folder) === 'open') {
    problems.push(`import cycle between folders: ${[...trail.slice(trail.indexOf(folder)), folder].join(' → ')}`)
    return
  }
  state.set(folder, 'open')
  for (const next of edges.get(folder) ?? []) visit(next, [...trail, folder])
  state.set(folder, 'done')
}
for (const folder of edges.keys()) visit(folder, [])

// A provider's name appears only in its own folder.
// `providers/core` is what every provider shares; every other folder there is one provider.
const providerFolders = readdirSync(path.join(src, 'providers')).filter(
  (name) => name !== 'core' && statSync(path.join(src, 'providers', name)).isDirectory(),
)
for (const name of providerFolders) {
  const literal = new RegExp(`['"\`]${name}(?:\\.v\\d+)?['"\`]|\\b${name}\\.v\\d+\\b`)
  for (const file of files) {
    if (file.startsWith(path.join(src, 'providers', name) + path.sep)) continue
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, index) => {
        if (literal.test(line))
          problems.push(`${path.relative(root, file)}:${index + 1}: names provider ${name} outside src/providers/${name}/`)
      })
  }
}

if (problems.length > 0) {
  console.error(`architecture: ${problems.length} problem(s)\n${problems.map((p) => `  ${p}`).join('\n')}`)
  process.exit(1)
}
console.log(`architecture: ${files.length} files in ${new Set(files.map(folderOf)).size} folders, layers and names as ARCHITECTURE.md says`)
