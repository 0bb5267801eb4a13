// The few helpers the CRI message tables (schema.ts, container-schema.ts) are written with.

export type ScalarType = 'string' | 'bool' | 'int32' | 'uint32' | 'int64' | 'uint64'

export interface FieldDef {
  /** the proto field name (snake_case) */
  name: string
  number: number
  type: ScalarType | {message: string} | {enum: string}
  repeated?: boolean
  /** map<string,string> */
  map?: boolean
}

export interface MessageDef {
  name: string
  fields: FieldDef[]
}

export const f = (name: string, number: number, type: FieldDef['type'], extra: Partial<FieldDef> = {}): FieldDef => ({
  name,
  number,
  type,
  ...extra,
})
export const msg = (name: string): {message: string} => ({message: name})
export const enm = (name: string): {enum: string} => ({enum: name})
export const stringMap = {map: true}
export const list = {repeated: true}
