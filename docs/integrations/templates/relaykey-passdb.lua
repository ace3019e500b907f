-- relaykey passdb for Dovecot 2.3 (Debian package dovecot-auth-lua): every password check
-- becomes POST /api/v1/verify with the verifier token, the service and the client's IP, so
-- relaykey's scopes and throttling apply. 200 = OK with user= relaykey's canonical identity,
-- 401 = wrong password, 429 (throttled) and anything else = temporary failure.
-- See docs/integrations/dovecot.md.
local VERIFY_URL = "{{VERIFY_URL}}"
-- A file readable only by Dovecot's auth worker (mode 0400), holding the verifier token.
local TOKEN_FILE = "{{TOKEN_FILE}}"

local PROTOCOLS = { imap = "imap", pop3 = "pop3", smtp = "smtp", submission = "smtp" }

local token = nil
local http_client = nil

local function json_string(value)
  value = tostring(value or "")
  value = value:gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' end
    if c == "\\" then return "\\\\" end
    return string.format("\\u%04x", c:byte())
  end)
  return '"' .. value .. '"'
end

-- Loaded lazily on the first check: Dovecot 2.3 has no passdb init hook for Lua scripts.
local function init()
  local file = io.open(TOKEN_FILE, "r")
  if file == nil then
    error("relaykey: cannot read the verifier token file " .. TOKEN_FILE)
  end
  token = file:read("l")
  file:close()
  http_client = dovecot.http.client({
    timeout = 5000,
    max_attempts = 2,
    request_timeout = 5000,
    user_agent = "dovecot-relaykey",
  })
end

function script_init()
  return 0
end

function auth_password_verify(request, password)
  if http_client == nil then
    init()
  end
  local protocol = PROTOCOLS[request.service]
  if protocol == nil then
    return dovecot.auth.PASSDB_RESULT_USER_DISABLED, "relaykey: service " .. tostring(request.service) .. " is not a mail login"
  end
  local body = "{" ..
    '"username":' .. json_string(request.user) ..
    ',"password":' .. json_string(password) ..
    ',"protocol":' .. json_string(protocol) ..
    ',"client_ip":' .. json_string(request.remote_ip) ..
    ',"user_agent":' .. json_string(request.client_id or "") ..
    "}"
  local http_request = http_client:request({ url = VERIFY_URL, method = "POST" })
  http_request:add_header("Authorization", "Bearer " .. token)
  http_request:add_header("Content-Type", "application/json")
  http_request:set_payload(body)
  local response = http_request:submit()
  local status = response:status()
  if status == 200 then
    -- The identity is an address without spaces, quotes or backslashes (relaykey refuses
    -- such logins); anything else is not trusted.
    local identity = string.match(response:payload(), '"identity":"([^"\\%s]+)"')
    if identity == nil then
      return dovecot.auth.PASSDB_RESULT_INTERNAL_FAILURE, "relaykey answered without an identity"
    end
    return dovecot.auth.PASSDB_RESULT_OK, "user=" .. identity
  elseif status == 401 then
    return dovecot.auth.PASSDB_RESULT_PASSWORD_MISMATCH, ""
  end
  return dovecot.auth.PASSDB_RESULT_INTERNAL_FAILURE, "relaykey answered " .. tostring(status)
end
