/** @module How paygate names itself on every outbound request (merchant deliveries, provider APIs). */
export const USER_AGENT = 'paygate/0.1'
