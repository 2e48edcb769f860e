-- P_order: the order transaction of the app written as raw SQL, run by pgbench.
-- One order with 5 lines, priced from the catalogue, totals, stock rows locked in primary-key
-- order and reserved with a conditional UPDATE, reservations, and a timeline row.
-- Variables (-D): cmin cmax (customers), pmin pmax (products), w (warehouse), u (user).
\set c random(:cmin, :cmax)
\set p1 random(:pmin, :pmax)
\set p2 random(:pmin, :pmax)
\set p3 random(:pmin, :pmax)
\set p4 random(:pmin, :pmax)
\set p5 random(:pmin, :pmax)
\set q random(1, 3)
BEGIN;
UPDATE config_numbersequence SET last_value = last_value + 1 WHERE key = 'bench_pgbench' AND year = 0 RETURNING last_value AS seq \gset
INSERT INTO orders_salesorder (number, status, customer_id, channel, customer_po, notes, currency, subtotal, tax_total, total,
                               line_count, created_by_id, created_at, updated_at, submitted_at, approved_at, version)
    VALUES ('PB-' || lpad(:seq::text, 9, '0'), 'approved', :c, 'api', '', '', 'CNY', 0, 0, 0, 5, :u, now(), now(), now(), now(), 1)
    RETURNING id AS oid \gset
INSERT INTO orders_salesorderline (order_id, position, product_id, description, quantity, unit_price, discount_percent, tax_rate,
                                   line_net, line_tax, line_total,
                                   quantity_shipped, quantity_cancelled, quantity_returned, quantity_invoiced)
    SELECT :oid, v.n, p.id, p.name, :q, p.list_price, 0, p.tax_rate,
           round(:q * p.list_price, 2), round(round(:q * p.list_price, 2) * p.tax_rate, 2),
           round(:q * p.list_price, 2) + round(round(:q * p.list_price, 2) * p.tax_rate, 2),
           0, 0, 0, 0
    FROM (VALUES (1, :p1), (2, :p2), (3, :p3), (4, :p4), (5, :p5)) AS v(n, pid) JOIN inventory_product p ON p.id = v.pid;
UPDATE orders_salesorder o SET subtotal = s.net, tax_total = s.tax, total = s.gross
    FROM (SELECT sum(line_net) AS net, sum(line_tax) AS tax, sum(line_total) AS gross
          FROM orders_salesorderline WHERE order_id = :oid) AS s
    WHERE o.id = :oid;
SELECT id FROM inventory_stocklevel WHERE warehouse_id = :w AND product_id IN (:p1, :p2, :p3, :p4, :p5) ORDER BY id FOR UPDATE;
UPDATE inventory_stocklevel s SET reserved = s.reserved + v.q, updated_at = now()
    FROM (SELECT product_id, sum(quantity) AS q FROM orders_salesorderline WHERE order_id = :oid GROUP BY product_id) AS v
    WHERE s.product_id = v.product_id AND s.warehouse_id = :w AND s.on_hand - s.reserved >= v.q;
INSERT INTO inventory_reservation (order_line_id, product_id, warehouse_id, quantity, state, created_at, updated_at)
    SELECT l.id, l.product_id, :w, l.quantity, 'active', now(), now() FROM orders_salesorderline l WHERE l.order_id = :oid;
UPDATE orders_salesorder SET status = 'allocated', updated_at = now() WHERE id = :oid;
INSERT INTO orders_orderevent (order_id, kind, at, by_id, actor_kind, actor_name, from_state, to_state, params, note)
    VALUES (:oid, 'transition', now(), NULL, 'system', 'allocation', 'approved', 'allocated', '{}', '');
COMMIT;
