-- Marks from a class photo (POST /recognize-photo) say so: source 'photo', always with the session and the match
-- distance. Rows already kept are all 'camera' or 'manual' and stay valid.
ALTER TABLE attendance DROP CONSTRAINT attendance_source_check;
ALTER TABLE attendance ADD CONSTRAINT attendance_source_check CHECK (source IN ('camera', 'photo', 'manual'));
ALTER TABLE attendance ADD CONSTRAINT attendance_photo_names_its_session CHECK (source <> 'photo' OR (session_id IS NOT NULL AND distance IS NOT NULL));
