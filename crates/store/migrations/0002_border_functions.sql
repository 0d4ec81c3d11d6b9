-- Which organisations carry out the Home Secretary's border, immigration and customs
-- functions, to which directed tasking extends under a separate protocol (¶11).
ALTER TABLE organisations ADD COLUMN border_functions TEXT NOT NULL DEFAULT 'none';
