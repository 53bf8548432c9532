"""The GraphQL documents the Shopify connector sends (Admin GraphQL API, shopify.dev/docs/api/admin-graphql).

* ``inventorySetQuantities`` (mutations/inventorySetQuantities): absolute quantities, name ``available``, a
  ``reason`` and a ``referenceDocumentUri``; every quantity carries ``changeFromQuantity`` (compare-and-set; from
  2026-04 omitting it is an error, ``null`` opts out) and a stale one fails with ``CHANGE_FROM_QUANTITY_STALE``
  (InventorySetQuantitiesUserErrorCode). The mutation takes ``@idempotent(key:)`` (usage/idempotent-requests,
  changelog "Concurrency protection features"): a retried request with the same key returns the first result;
  IDEMPOTENCY_CONCURRENT_REQUEST (in progress), IDEMPOTENCY_KEY_PARAMETER_MISMATCH (same key, other variables),
  IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED (use a new key).
* ``productVariantsBulkUpdate`` (mutations/productVariantsBulkUpdate): prices of a product's variants.
* ``productUpdate`` with ``product: {id, status}``: publication (ACTIVE / DRAFT).
* ``orders(query: "updated_at:>='…'", sortKey: UPDATED_AT)`` with cursor pagination (``pageInfo``).
* ``fulfillmentCreate`` with ``lineItemsByFulfillmentOrder`` and ``trackingInfo {company, number, url}``.
* Cost-based rate limit: every answer has ``extensions.cost.throttleStatus {maximumAvailable,
  currentlyAvailable, restoreRate}``; over budget the answer is an error with ``extensions.code = THROTTLED``
  (usage/rate-limits).
"""

SET_QUANTITIES = """
mutation SetQuantities($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) @idempotent(key: "%s") {
    inventoryAdjustmentGroup { id }
    userErrors { field message code }
  }
}
"""

LEVELS = """
query Levels($ids: [ID!]!, $location: ID!) {
  nodes(ids: $ids) {
    ... on InventoryItem { id inventoryLevel(locationId: $location) { quantities(names: ["available"]) { name quantity } } }
  }
}
"""

VARIANTS = """
query Variants($ids: [ID!]!) {
  nodes(ids: $ids) { ... on ProductVariant { id price product { id status } } }
}
"""

VARIANTS_BULK_UPDATE = """
mutation VariantPrices($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants) {
    productVariants { id price }
    userErrors { field message code }
  }
}
"""

PRODUCT_STATUS = """
mutation ProductStatus($product: ProductUpdateInput!) {
  productUpdate(product: $product) { product { id status } userErrors { field message } }
}
"""

ORDERS = """
query Orders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id name createdAt updatedAt cancelledAt displayFinancialStatus email phone currencyCode
      totalShippingPriceSet { shopMoney { amount currencyCode } }
      shippingAddress { name address1 address2 zip city countryCodeV2 phone }
      lineItems(first: 100) { nodes { sku quantity originalUnitPriceSet { shopMoney { amount currencyCode } }
        taxLines { rate } } }
    }
  }
}
"""

FULFILLMENT_ORDERS = """
query FulfillmentOrders($id: ID!) {
  order(id: $id) { id fulfillmentOrders(first: 20) { nodes { id status } } }
}
"""

FULFILLMENT_CREATE = """
mutation Fulfil($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) { fulfillment { id status } userErrors { field message } }
}
"""
