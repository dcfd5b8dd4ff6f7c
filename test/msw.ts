/** @module Network-level mock of everything the Worker fetches (merchant origins, provider APIs). */
import { setupServer } from 'msw/node'

export const network = setupServer()
