-- wrk script: the same POST body every time (for servers without state). Arguments: path, body file, token.
local path, body, token
function init(args)
  path, token = args[1], args[3]
  local f = io.open(args[2]); body = f:read("*a"); f:close()
end
function request()
  return wrk.format("POST", path, { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token, ["Accept"] = "application/json", ["User-Agent"] = "grex-bench" }, body)
end
