-- The sweeps ask for active assignments by end time ("state <> 'expired'" then a range on
-- end_date_time). An index led by state cannot serve a "<>" and a range together, so at a
-- million assignments each sweep scanned them all; a partial index over active rows can.
CREATE INDEX assignments_active_end ON assignments (end_date_time) WHERE state <> 'expired';
