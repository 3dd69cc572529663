-- name: free_bytes
-- Bytes of free blocks inside the store file.
-- params:
SELECT free_blocks * block_size FROM pragma_database_size()
