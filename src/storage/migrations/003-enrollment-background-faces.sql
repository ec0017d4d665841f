-- How many smaller faces each cached photo showed beside the enrolled one: a session start from the cache reports
-- them in the enrollment outcome as the first encoding did. Rows cached before this column read as none.

ALTER TABLE descriptor_photos ADD COLUMN background_faces integer NOT NULL DEFAULT 0 CHECK (background_faces >= 0);
