-- wrk script: one single-certificate transfer per request, never the same
-- twice (the mock refuses duplicates). Arguments: path, token, from, to,
-- serials file ("start end" per line), serials to skip (used by earlier runs).
local path, token, from, to, file, skip
local ranges, r, nextSerial = {}, 1, 0

function init(args)
  path, token, from, to, file, skip = args[1], args[2], args[3], args[4], args[5], tonumber(args[6])
  for line in io.lines(file) do
    local s, e = line:match("(%d+) (%d+)")
    ranges[#ranges + 1] = { tonumber(s), tonumber(e) }
  end
  nextSerial = ranges[1][1]
  for _ = 1, skip do advance() end
end

function advance()
  nextSerial = nextSerial + 1
  while r <= #ranges and nextSerial > ranges[r][2] do
    r = r + 1
    if ranges[r] then nextSerial = ranges[r][1] end
  end
end

function request()
  local id = string.format("1%019d", nextSerial)
  advance()
  local body = '{"fromAccountNumber":"' .. from .. '","toAccountNumber":"' .. to .. '","bundles":[{"startCertificateId":"' .. id .. '","endCertificateId":"' .. id .. '"}]}'
  return wrk.format("POST", path, { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token, ["Accept"] = "application/json", ["User-Agent"] = "grex-bench" }, body)
end
