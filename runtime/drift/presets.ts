// Promotion presets (ansible/README.md): what a promotion leaves as production's. Table names are unprefixed.
import type { PromotionPreset } from '../contracts/enums.js'

const CONTENT_TABLES = ['posts', 'postmeta', 'terms', 'term_taxonomy', 'term_relationships', 'comments', 'commentmeta'] as const
// WooCommerce orders (legacy and HPOS tables), then customers and payments (amended 2026-11-29, so a customer account
// created in production after the clone survives a promotion).
const ORDER_TABLES = ['woocommerce_order_items', 'woocommerce_order_itemmeta', 'wc_order_stats', 'wc_orders', 'wc_orders_meta',
  'wc_order_addresses', 'wc_order_operational_data', 'wc_order_product_lookup', 'wc_order_tax_lookup', 'wc_order_coupon_lookup'] as const
const CUSTOMER_TABLES = ['users', 'usermeta', 'wc_customer_lookup', 'woocommerce_sessions', 'woocommerce_payment_tokens',
  'woocommerce_payment_tokenmeta', 'woocommerce_downloadable_product_permissions', 'wc_download_log'] as const

export interface ProtectedSet { readonly tables: readonly string[]; readonly paths: readonly string[] }

export const PROTECTED: Record<PromotionPreset, ProtectedSet> = {
  'content-protect': { tables: [...CONTENT_TABLES], paths: ['wp-content/uploads'] },
  'commerce-protect': { tables: [...CONTENT_TABLES, ...ORDER_TABLES, ...CUSTOMER_TABLES], paths: ['wp-content/uploads'] },
}

export function protectedSet(preset: string): ProtectedSet {
  return PROTECTED[preset as PromotionPreset] ?? PROTECTED['content-protect']
}
