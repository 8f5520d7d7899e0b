-- mltrack_number(text): the number a param's text spells (finite; spaces
-- around allowed), else NULL: what the UI's numeric order of params sorts
-- by. SQLite gets the same function from the store (sqlite_db.rs).
CREATE OR REPLACE FUNCTION mltrack_number(t text) RETURNS double precision AS $$
BEGIN
    IF t ~ '^\s*[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?\s*$' THEN
        RETURN t::double precision;
    END IF;
    RETURN NULL;
EXCEPTION WHEN others THEN
    -- Out of double precision's range (1e400): not a number to sort by.
    RETURN NULL;
END
$$ LANGUAGE plpgsql IMMUTABLE;
